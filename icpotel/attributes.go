package icpotel

import (
	"context"
	"errors"
	"reflect"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/icpfiling/icpverify"
)

// The attributes of spans and metrics (see the package documentation).
const (
	keyOperation   = attribute.Key("icpverify.operation.name")
	keyVerdict     = attribute.Key("icpverify.verdict")
	keyReason      = attribute.Key("icpverify.reason")
	keyCause       = attribute.Key("icpverify.cause")
	keyProduct     = attribute.Key("icpverify.product.type")
	keyInstance    = attribute.Key("icpverify.instance.id")
	keyCode        = attribute.Key("icpverify.service_code")
	keyApplication = attribute.Key("icpverify.application.id")
	keyUsed        = attribute.Key("icpverify.used")
	keyLimit       = attribute.Key("icpverify.limit")
	keyErrorType   = attribute.Key("error.type")
)

// otherValue stands for a value outside a known set, as in OpenTelemetry's
// semantic conventions.
const otherValue = "_OTHER"

// maxSpanAttrs is the most attributes spanAttrs gives.
const maxSpanAttrs = 11

// endSpan sets the attributes and the status of the span of the operation
// d records, and ends it when the Decision says it ended.
func endSpan(span trace.Span, d *icpverify.Decision) {
	var buf [maxSpanAttrs]attribute.KeyValue
	span.SetAttributes(spanAttrs(buf[:0], d)...)
	if d.Verdict == icpverify.Failed {
		span.SetStatus(codes.Error, errorType(d.Err))
	}
	span.End(trace.WithTimestamp(spanEnd(span, d.Duration)))
}

// spanAttrs appends to attrs the attributes of the span of d: never an
// account, a subject, an unmasked code or an error's text.
func spanAttrs(attrs []attribute.KeyValue, d *icpverify.Decision) []attribute.KeyValue {
	attrs = append(attrs, keyOperation.String(string(d.Op)), keyVerdict.String(string(d.Verdict)))
	if d.Reason != "" {
		attrs = append(attrs, keyReason.String(string(d.Reason)))
	}
	if d.Cause != "" {
		attrs = append(attrs, keyCause.String(string(d.Cause)))
	}
	if d.Product != "" {
		attrs = append(attrs, keyProduct.String(product(d.Product)))
	}
	if d.Instance != "" {
		attrs = append(attrs, keyInstance.String(d.Instance))
	}
	if code := d.Code(); code != "" {
		attrs = append(attrs, keyCode.String(code))
	}
	if d.Application != "" {
		attrs = append(attrs, keyApplication.String(d.Application))
	}
	if d.Limit != 0 {
		attrs = append(attrs, keyUsed.Int(d.Used), keyLimit.Int(d.Limit))
	}
	if d.Verdict == icpverify.Failed {
		attrs = append(attrs, keyErrorType.String(errorType(d.Err)))
	}
	return attrs
}

// product returns the value of the product attribute of p: one of the
// product types icpverify knows, or otherValue, so that what an applicant
// types in the field is never recorded.
func product(p icpverify.ProductType) string {
	switch p {
	case icpverify.ProductECS, icpverify.ProductSimpleApplicationServer, icpverify.ProductSLB,
		icpverify.ProductACK, icpverify.ProductOSS, icpverify.ProductCDN:
		return string(p)
	}
	return otherValue
}

// errorType returns the error.type of a failure err, without its text,
// which a store's driver may fill with the values of a row:
// "context.Canceled", "context.DeadlineExceeded", or the Go type of the
// innermost error that err wraps, such as "*pgconn.PgError".
func errorType(err error) string {
	switch {
	case err == nil:
		return otherValue
	case errors.Is(err, context.Canceled):
		return "context.Canceled"
	case errors.Is(err, context.DeadlineExceeded):
		return "context.DeadlineExceeded"
	}
	// A chain that never ends (an Unwrap that returns its receiver) stops
	// after maxUnwrap steps.
	for range maxUnwrap {
		inner := errors.Unwrap(err)
		if inner == nil {
			break
		}
		err = inner
	}
	return reflect.TypeOf(err).String()
}

// maxUnwrap bounds the errors errorType unwraps.
const maxUnwrap = 32
