package nori

import "errors"

// Sentinel errors of the Regressor API. Errors about particular data carry
// details (which row, which column) and wrap one of these, so callers can
// test with errors.Is.
var (
	// ErrNotFitted is returned by the Predict methods before Fit succeeded.
	ErrNotFitted = errors.New("nori: Predict called before a successful Fit")
	// ErrBadData marks invalid training or query data (empty, ragged,
	// non-finite targets, mismatched lengths or columns).
	ErrBadData = errors.New("nori: invalid data")
	// ErrBadOption marks an invalid option value.
	ErrBadOption = errors.New("nori: invalid option")
)
