"""Small worlds with known answers, for tests that check pages and services against
figures worked out by hand."""
