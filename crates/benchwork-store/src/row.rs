//! Reading columns the same way from SQLite and PostgreSQL rows.

use jiff::Timestamp;
use sqlx::Row;
use uuid::Uuid;

use crate::{StoreResult, instant};

/// Typed column access shared by both engines' row types, so that each
/// record is decoded by one function.
pub(crate) trait RowExt {
    fn uuid(&self, column: &str) -> StoreResult<Uuid>;
    fn opt_uuid(&self, column: &str) -> StoreResult<Option<Uuid>>;
    fn int(&self, column: &str) -> StoreResult<i64>;
    fn opt_int(&self, column: &str) -> StoreResult<Option<i64>>;
    fn text(&self, column: &str) -> StoreResult<String>;
    fn opt_text(&self, column: &str) -> StoreResult<Option<String>>;
    fn opt_bytes(&self, column: &str) -> StoreResult<Option<Vec<u8>>>;

    fn at(&self, column: &str) -> StoreResult<Timestamp> {
        instant(self.int(column)?)
    }

    fn opt_at(&self, column: &str) -> StoreResult<Option<Timestamp>> {
        self.opt_int(column)?.map(instant).transpose()
    }
}

macro_rules! impl_row_ext {
    ($row:ty) => {
        impl RowExt for $row {
            fn uuid(&self, column: &str) -> StoreResult<Uuid> {
                Ok(self.try_get(column)?)
            }
            fn opt_uuid(&self, column: &str) -> StoreResult<Option<Uuid>> {
                Ok(self.try_get(column)?)
            }
            fn int(&self, column: &str) -> StoreResult<i64> {
                Ok(self.try_get(column)?)
            }
            fn opt_int(&self, column: &str) -> StoreResult<Option<i64>> {
                Ok(self.try_get(column)?)
            }
            fn text(&self, column: &str) -> StoreResult<String> {
                Ok(self.try_get(column)?)
            }
            fn opt_text(&self, column: &str) -> StoreResult<Option<String>> {
                Ok(self.try_get(column)?)
            }
            fn opt_bytes(&self, column: &str) -> StoreResult<Option<Vec<u8>>> {
                Ok(self.try_get(column)?)
            }
        }
    };
}

impl_row_ext!(sqlx::sqlite::SqliteRow);
impl_row_ext!(sqlx::postgres::PgRow);
