//! MLLP framing (DOMAIN.md §6.1): a frame is `0x0B`, the message, `0x1C`
//! `0x0D`. [`Decoder`] takes bytes as they arrive on a connection and gives
//! back frames, and also everything that is not a frame (bytes before a
//! start block, a frame too large, a frame cut off by the connection
//! closing) as [`Event::Discarded`], so that the listener can record every
//! byte received: nothing is dropped without a trace.

/// Start block.
pub const START: u8 = 0x0b;
/// End block.
pub const END: u8 = 0x1c;
/// Carriage return after the end block.
pub const CR: u8 = 0x0d;

/// Wraps a message in an MLLP frame.
pub fn encode(message: &[u8]) -> Vec<u8> {
    let mut frame = Vec::with_capacity(message.len() + 3);
    frame.push(START);
    frame.extend_from_slice(message);
    frame.push(END);
    frame.push(CR);
    frame
}

/// What the decoder found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A whole frame's content (between the start block and the end block).
    Frame(Vec<u8>),
    /// Bytes that are not part of a frame, with why.
    Discarded {
        /// The bytes (at most the first `max_frame` of them).
        bytes: Vec<u8>,
        /// Why they were not a frame.
        reason: Discard,
    },
}

/// Why bytes were not a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Discard {
    /// Bytes outside a frame (before a start block).
    OutsideFrame,
    /// A frame longer than the limit; the rest up to its end block is
    /// skipped.
    TooLarge,
    /// The connection closed inside a frame.
    Truncated,
}

/// Reassembles frames from a byte stream.
#[derive(Debug)]
pub struct Decoder {
    max_frame: usize,
    buffer: Vec<u8>,
    state: State,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Between frames: collecting stray bytes.
    Outside,
    /// Inside a frame.
    Inside,
    /// Inside a frame that is too large: skipping to its end.
    Skipping,
    /// Seen the end block; expecting CR. `emit`: the frame in the buffer
    /// is still to be reported (not when it was skipped as too large).
    AfterEnd { emit: bool },
}

impl Decoder {
    /// A decoder refusing frames larger than `max_frame` bytes.
    pub fn new(max_frame: usize) -> Decoder {
        Decoder {
            max_frame,
            buffer: Vec::new(),
            state: State::Outside,
        }
    }

    /// Feeds received bytes; returns the events they complete.
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<Event> {
        let mut events = Vec::new();
        for &byte in bytes {
            match self.state {
                State::Outside => {
                    if byte == START {
                        self.flush_outside(&mut events);
                        self.state = State::Inside;
                    } else if !(self.buffer.is_empty() && matches!(byte, CR | b'\n')) {
                        // A stray line ending between frames is not worth
                        // reporting; anything else is.
                        if self.buffer.len() < self.max_frame {
                            self.buffer.push(byte);
                        }
                    }
                }
                State::Inside => {
                    if byte == END {
                        self.state = State::AfterEnd { emit: true };
                    } else if byte == START {
                        // A new start block inside a frame: the frame so far
                        // was never ended.
                        events.push(Event::Discarded {
                            bytes: std::mem::take(&mut self.buffer),
                            reason: Discard::Truncated,
                        });
                    } else if self.buffer.len() >= self.max_frame {
                        self.state = State::Skipping;
                    } else {
                        self.buffer.push(byte);
                    }
                }
                State::Skipping => {
                    if byte == END {
                        events.push(Event::Discarded {
                            bytes: std::mem::take(&mut self.buffer),
                            reason: Discard::TooLarge,
                        });
                        // The CR that follows is consumed in AfterEnd; the
                        // frame itself was already reported.
                        self.state = State::AfterEnd { emit: false };
                    }
                }
                State::AfterEnd { emit } => {
                    if emit {
                        events.push(Event::Frame(std::mem::take(&mut self.buffer)));
                    }
                    self.state = State::Outside;
                    if byte == START {
                        self.state = State::Inside;
                    } else if byte != CR {
                        // End block without its CR: the frame stands, the
                        // byte starts whatever follows.
                        self.buffer.push(byte);
                    }
                }
            }
        }
        events
    }

    /// The connection closed: reports a frame left open or stray bytes.
    pub fn finish(&mut self) -> Vec<Event> {
        let mut events = Vec::new();
        match self.state {
            State::Outside => self.flush_outside(&mut events),
            State::Inside | State::Skipping => {
                events.push(Event::Discarded {
                    bytes: std::mem::take(&mut self.buffer),
                    reason: if self.state == State::Skipping {
                        Discard::TooLarge
                    } else {
                        Discard::Truncated
                    },
                });
            }
            State::AfterEnd { emit } => {
                if emit {
                    events.push(Event::Frame(std::mem::take(&mut self.buffer)));
                }
            }
        }
        self.state = State::Outside;
        events
    }

    /// Bytes held for a frame not yet complete.
    pub fn pending(&self) -> usize {
        self.buffer.len()
    }

    fn flush_outside(&mut self, events: &mut Vec<Event>) {
        if !self.buffer.is_empty() {
            events.push(Event::Discarded {
                bytes: std::mem::take(&mut self.buffer),
                reason: Discard::OutsideFrame,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(events: &[Event]) -> Vec<&[u8]> {
        events
            .iter()
            .filter_map(|event| match event {
                Event::Frame(frame) => Some(frame.as_slice()),
                Event::Discarded { .. } => None,
            })
            .collect()
    }

    #[test]
    fn frames_are_found_whatever_the_chunking() {
        let mut stream = encode(b"MSH|first\r");
        stream.extend(encode(b"MSH|second\r"));
        for chunk in 1..stream.len() {
            let mut decoder = Decoder::new(1024);
            let mut events = Vec::new();
            for piece in stream.chunks(chunk) {
                events.extend(decoder.feed(piece));
            }
            events.extend(decoder.finish());
            assert_eq!(
                frames(&events),
                vec![&b"MSH|first\r"[..], &b"MSH|second\r"[..]],
                "chunk {chunk}"
            );
            assert_eq!(events.len(), 2, "nothing discarded with chunk {chunk}");
        }
    }

    #[test]
    fn stray_bytes_oversized_and_cut_off_frames_are_reported_not_dropped() {
        let mut decoder = Decoder::new(8);
        let mut stream = b"junk".to_vec();
        stream.extend(encode(b"0123456789abcdef"));
        stream.extend(encode(b"ok"));
        stream.extend([START]);
        stream.extend(b"cut");
        let mut events = decoder.feed(&stream);
        events.extend(decoder.finish());
        assert_eq!(
            events,
            vec![
                Event::Discarded {
                    bytes: b"junk".to_vec(),
                    reason: Discard::OutsideFrame
                },
                Event::Discarded {
                    bytes: b"01234567".to_vec(),
                    reason: Discard::TooLarge
                },
                Event::Frame(b"ok".to_vec()),
                Event::Discarded {
                    bytes: b"cut".to_vec(),
                    reason: Discard::Truncated
                },
            ]
        );
    }

    #[test]
    fn an_end_block_without_its_cr_still_ends_the_frame() {
        let mut decoder = Decoder::new(64);
        let events = decoder.feed(&[START, b'a', END, START, b'b', END, CR]);
        assert_eq!(frames(&events), vec![&b"a"[..], &b"b"[..]]);
    }

    #[test]
    fn a_start_block_inside_a_frame_reports_the_unfinished_one() {
        let mut decoder = Decoder::new(64);
        let events = decoder.feed(&[START, b'a', START, b'b', END, CR]);
        assert_eq!(
            events,
            vec![
                Event::Discarded {
                    bytes: b"a".to_vec(),
                    reason: Discard::Truncated
                },
                Event::Frame(b"b".to_vec())
            ]
        );
    }
}
