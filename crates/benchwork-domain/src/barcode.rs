//! Code 128 (subset B) barcodes for specimen labels, drawn as SVG.
//!
//! Each symbol is six alternating bar and space widths (in modules) that sum
//! to 11; the stop symbol has seven widths summing to 13. A barcode is the
//! start symbol, the data symbols, a check symbol (the start value plus the
//! sum of each data value times its position, modulo 103) and the stop
//! symbol, between quiet zones of ten modules.

use thiserror::Error;

/// Bar and space widths of symbols 0 to 106 (ISO/IEC 15417).
const PATTERNS: [&str; 107] = [
    "212222", "222122", "222221", "121223", "121322", "131222", "122213", "122312", "132212",
    "221213", "221312", "231212", "112232", "122132", "122231", "113222", "123122", "123221",
    "223211", "221132", "221231", "213212", "223112", "312131", "311222", "321122", "321221",
    "312212", "322112", "322211", "212123", "212321", "232121", "111323", "131123", "131321",
    "112313", "132113", "132311", "211313", "231113", "231311", "112133", "112331", "132131",
    "113123", "113321", "133121", "313121", "211331", "231131", "213113", "213311", "213131",
    "311123", "311321", "331121", "312113", "312311", "332111", "314111", "221411", "431111",
    "111224", "111422", "121124", "121421", "141122", "141221", "112214", "112412", "122114",
    "122411", "142112", "142211", "241211", "221114", "413111", "241112", "134111", "111242",
    "121142", "121241", "114212", "124112", "124211", "411212", "421112", "421211", "212141",
    "214121", "412121", "111143", "111341", "131141", "114113", "114311", "411113", "411311",
    "113141", "114131", "311141", "411131", "211412", "211214", "211232", "2331112",
];

const START_B: usize = 104;
const STOP: usize = 106;
const QUIET_ZONE: u32 = 10;

/// Why text cannot be encoded.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum BarcodeError {
    /// Subset B holds printable ASCII only (space to `~`).
    #[error("only printable ASCII characters can be encoded in Code 128 subset B")]
    UnsupportedCharacter,
    /// Nothing to encode.
    #[error("nothing to encode")]
    Empty,
}

/// The symbol values of `text` in subset B, with start, check and stop.
pub fn code128b_symbols(text: &str) -> Result<Vec<usize>, BarcodeError> {
    if text.is_empty() {
        return Err(BarcodeError::Empty);
    }
    let mut symbols = vec![START_B];
    for byte in text.bytes() {
        if !(32..=126).contains(&byte) {
            return Err(BarcodeError::UnsupportedCharacter);
        }
        symbols.push(usize::from(byte - 32));
    }
    let check = symbols
        .iter()
        .enumerate()
        .map(|(position, value)| position.max(1) * value)
        .sum::<usize>()
        % 103;
    symbols.push(check);
    symbols.push(STOP);
    Ok(symbols)
}

/// Bar and space widths in modules, starting with a bar, without quiet zones.
pub fn code128b_widths(text: &str) -> Result<Vec<u32>, BarcodeError> {
    Ok(code128b_symbols(text)?
        .into_iter()
        .flat_map(|symbol| {
            PATTERNS[symbol]
                .bytes()
                .map(|digit| u32::from(digit - b'0'))
        })
        .collect())
}

/// An SVG label: the barcode of `text`, `module` pixels per module and
/// `height` pixels of bars, with the text printed beneath.
pub fn code128b_svg(text: &str, module: u32, height: u32) -> Result<String, BarcodeError> {
    let widths = code128b_widths(text)?;
    let n_modules: u32 = widths.iter().sum::<u32>() + 2 * QUIET_ZONE;
    let (width, total_height) = (n_modules * module, height + 18);
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{total_height}\" viewBox=\"0 0 {width} {total_height}\" role=\"img\" aria-label=\"Barcode {text}\">\
         <rect width=\"{width}\" height=\"{total_height}\" fill=\"#fff\"/>"
    );
    let mut x = QUIET_ZONE;
    for (index, bar_width) in widths.iter().enumerate() {
        if index % 2 == 0 {
            svg.push_str(&format!(
                "<rect x=\"{}\" y=\"0\" width=\"{}\" height=\"{height}\" fill=\"#000\"/>",
                x * module,
                bar_width * module
            ));
        }
        x += bar_width;
    }
    // Subset B text is printable ASCII; only the XML specials need escaping.
    let escaped = text
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    svg.push_str(&format!(
        "<text x=\"{}\" y=\"{}\" font-family=\"monospace\" font-size=\"14\" text-anchor=\"middle\">{escaped}</text></svg>",
        width / 2,
        height + 15
    ));
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_symbol_is_eleven_modules_and_the_stop_thirteen() {
        for (value, pattern) in PATTERNS.iter().enumerate() {
            let sum: u32 = pattern.bytes().map(|digit| u32::from(digit - b'0')).sum();
            assert_eq!(sum, if value == STOP { 13 } else { 11 }, "{value}");
        }
        let mut sorted = PATTERNS.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), 107, "every pattern is distinct");
    }

    #[test]
    fn the_check_symbol_of_a_known_example_is_right() {
        // The worked example of the Code 128 specification's tutorials:
        // "PJJ123C" in subset B has check value 55 (879 mod 103).
        assert_eq!(
            code128b_symbols("PJJ123C").unwrap(),
            vec![104, 48, 42, 42, 17, 18, 19, 35, 55, 106]
        );
    }

    #[test]
    fn a_barcode_is_start_data_check_and_stop_patterns() {
        let widths = code128b_widths("A").unwrap();
        // Start B, "A" (33), check (104 + 33) mod 103 = 34, stop.
        let expected: Vec<u32> = ["211214", "111323", "131123", "2331112"]
            .concat()
            .bytes()
            .map(|digit| u32::from(digit - b'0'))
            .collect();
        assert_eq!(widths, expected);
        assert_eq!(widths.iter().sum::<u32>(), 11 * 3 + 13);
    }

    #[test]
    fn text_outside_subset_b_is_refused() {
        assert_eq!(code128b_symbols(""), Err(BarcodeError::Empty));
        assert_eq!(
            code128b_symbols("é"),
            Err(BarcodeError::UnsupportedCharacter)
        );
    }

    #[test]
    fn the_svg_label_shows_the_text() {
        let svg = code128b_svg("SBW26-000001-1", 2, 60).unwrap();
        assert!(svg.starts_with("<svg"));
        assert!(svg.contains(">SBW26-000001-1</text>"));
    }
}
