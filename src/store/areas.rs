//! Areas: the polygons responsibility is decided from (districts, mines, waste dumps, gangue
//! heaps), loaded whole to build the in-memory `domain::responsibility` index.

use super::Result;
use crate::domain::responsibility;

pub trait Areas {
    /// Every polygon that decides responsibility.
    fn load(&self) -> Result<responsibility::Areas>;
}

// Transitional (issue 10): for code not yet on the traits (it holds a connection).
#[doc(hidden)]
pub use super::sqlite::areas::load;
