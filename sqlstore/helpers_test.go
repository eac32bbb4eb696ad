package sqlstore_test

import (
	"errors"

	"github.com/icpfiling/icpverify"
)

func errorsIsNotFound(err error) bool { return errors.Is(err, icpverify.ErrNotFound) }
