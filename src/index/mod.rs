//! TODO(skeleton): owned by a later issue.
