//! Plans across a federation's councils, by decomposition.

use super::PlaceIx;

/// A member council's register as a model.
#[derive(Debug, Clone, PartialEq)]
pub struct Council {
    pub name: String,
    pub model: super::Model,
}

/// A way to move one item from a place of one council to a place of another.
#[derive(Debug, Clone, PartialEq)]
pub struct Link {
    /// The item's name, the same in both councils' catalogues.
    pub item: String,
    /// (council index, place in that council's model).
    pub from: (usize, PlaceIx),
    pub to: (usize, PlaceIx),
    pub hours_per_unit: f64,
    pub capacity: Option<f64>,
}
