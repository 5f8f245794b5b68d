//! Feed formats. (API contract; the implementation is being written.)
