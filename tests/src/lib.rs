//! End-to-end tests of boletin live in `tests/`: they start the real server on port 0 and speak HTTP to it.
