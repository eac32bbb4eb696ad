// Package icpotel traces and measures the operations of an icpverify
// Verifier with OpenTelemetry. New returns an icpverify.Observer:
//
//	v := icpverify.New(store, store, icpverify.WithObserver(icpotel.New()))
//
// It takes the tracer and the meter, of instrumentation scope ScopeName,
// from the global providers, or from those WithTracerProvider and
// WithMeterProvider give.
//
// # Traces
//
// Every operation of the Verifier (Verify, Check, Withdraw, Release,
// Complete, IssueServiceCode, GrantServiceCode, RevokeServiceCode,
// ReconcileInstance, ServiceCodeStatus, ServiceCodes, Expiring) is a span
// of kind internal named "icpverify." and its icpverify.Op:
// "icpverify.verify", "icpverify.release", and so on. It is a child of the
// span in the context the operation was called with, and the parent of
// what the operation's stores trace with the context they are given. A
// reservation that an operation releases by itself (a revocation, a
// withdrawn grant, a reconciliation) is a span "icpverify.release" inside
// the operation's.
//
// The span lasts as long as the operation by the Verifier's clock
// (Decision.Duration) and has these attributes, each only when the
// operation has it:
//
//	icpverify.operation.name  the icpverify.Op: "verify", "release", …
//	icpverify.verdict         "passed", "refused" or "failed"
//	icpverify.reason          the refusal's icpverify.Reason, as "quota_reached"
//	icpverify.cause           the true cause of a refusal that hides it from a stranger
//	                          to the code, or why a reservation was released by itself
//	icpverify.product.type    the product type, as "ecs"; "_OTHER" for a type
//	                          icpverify does not know (as an applicant typed it)
//	icpverify.instance.id     the instance concerned
//	icpverify.service_code    the service code, masked: "****-****-****-WH6Q"
//	icpverify.application.id  the application's identity (Result.Application)
//	icpverify.used            with icpverify.limit: the figures of a quota, such as the
//	icpverify.limit           subject slots in use after a Verify, or of a refusal
//	error.type                of a failure: see below
//
// A refusal is the service doing its work: its span's status is left
// unset. A failure (verdict "failed": a store failed or the context ended)
// sets the status to Error, described by its error.type:
// "context.Canceled", "context.DeadlineExceeded", or the Go type of the
// innermost error it wraps, as "*pgconn.PgError". The error's text is
// recorded nowhere, since a database driver may fill it with the values of
// a row ("Duplicate entry '…'").
//
// What a support engineer needs to answer "why did my filing fail?" is
// there; what identifies a person is not. No attribute holds the subject's
// name or certificate number, the unmasked code, or an account: accounts
// are personal data of the provider's customers, and traces are kept and
// read more widely than an audit trail. A backend that must tell whose
// operation a span was joins it to its audit trail
// (icpverify.SlogObserver, whose records hold the accounts) by the trace
// and the application's identity.
//
// # Metrics
//
// Names and units follow OpenTelemetry's semantic-convention guidelines:
//
//	icpverify.decisions                 counter {decision}: every operation, by
//	                                    icpverify.operation.name, icpverify.verdict,
//	                                    icpverify.reason, icpverify.cause,
//	                                    icpverify.product.type and error.type
//	icpverify.operation.duration        histogram, s: the Decision's Duration, by
//	                                    icpverify.operation.name, icpverify.verdict
//	                                    and error.type
//	icpverify.subject_slot.utilization  histogram, 1: the subject slots in use on the
//	                                    instance over its limit, as a Verify or Check
//	                                    found it (passed, or refused quota_reached), by
//	                                    icpverify.operation.name, icpverify.verdict and
//	                                    icpverify.product.type
//
// Each attribute of a metric takes a bounded set of values; instances,
// codes and applications, which are not bounded, are left to the spans.
// The durations' buckets run from 50 µs to 10 s. The utilization is a
// histogram because a Decision carries the slots of one instance as it
// was at that moment: a gauge without the instance would only keep the
// last instance's figure, one with it a series per instance; a counter
// needs changes, not levels. The histogram keeps how full the instances
// being verified are, with buckets at fifths of the limit (one per slot
// under the default limit of 5), its bucket at 1 counting full instances;
// views of the SDK may change them.
//
// # Cost
//
// The observer runs on the operation's goroutine. With the no-op
// providers of go.opentelemetry.io/otel/trace/noop and metric/noop, New
// returns the zero Observer, which costs the Verifier nothing. Otherwise a
// span that is not recorded (not sampled) gets no attributes, and a
// metric whose instrument is not enabled is not computed; the metrics'
// attribute sets are made once and kept.
//
// # The SQL store's calls as child spans
//
// The stores of github.com/icpfiling/icpverify/sqlstore pass the context
// they are given to database/sql, so a *sql.DB opened through a
// database/sql instrumentation shows each statement as a child of the
// operation's span. With github.com/XSAM/otelsql and
// go.opentelemetry.io/otel/semconv/v1.40.0:
//
//	db, err := otelsql.Open("pgx", dsn,
//		otelsql.WithAttributes(semconv.DBSystemNamePostgreSQL),
//		otelsql.WithSpanOptions(otelsql.SpanOptions{
//			RecordError: func(error) bool { return false },
//		}))
//	store, err := sqlstore.New(db, sqlstore.Postgres)
//	v := icpverify.New(store, store, icpverify.WithObserver(icpotel.New()))
//
// otelsql records a statement's text, which holds placeholders, never its
// arguments; but by default it records the text of a driver's errors,
// which may hold the values of a row: RecordError above leaves them out.
package icpotel
