//! Normalisation of domains and URLs. (API contract; the implementation is being written.)
