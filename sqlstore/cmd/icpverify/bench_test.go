package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkParseJSONLine measures the reading and the checks of a full
// row, read strictly and, for comparison, by encoding/json alone.
func BenchmarkParseJSONLine(b *testing.B) {
	line := []byte(`{"id":"i-bp1abcdefghijk","account":"1234567890","product":"ECS","region":"cn-hangzhou","billing":"subscription","term_months":12,"public_ip":"203.0.113.1","trial":false,"status":"running","expires_at":"2027-06-01T00:00:00Z"}`)
	known := products(catalogue())
	for _, way := range []struct {
		name  string
		parse func([]byte) (record, error)
	}{{"strict", parseJSONLine}, {"encoding/json alone", lenientLine}} {
		b.Run(way.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(line)))
			for b.Loop() {
				rec, err := way.parse(line)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := rec.instance(known); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkImport measures an import of 10,000 rows into SQLite; after
// the first run, every run replaces the rows it loaded.
func BenchmarkImport(b *testing.B) {
	dbURL := "sqlite:" + filepath.Join(b.TempDir(), "icp.db")
	get := func(k string) string { return map[string]string{databaseURLEnv: dbURL}[k] }
	if code := run(context.Background(), []string{"migrate"}, nil, io.Discard, io.Discard, get); code != 0 {
		b.Fatalf("migrate: exit %d", code)
	}
	var in bytes.Buffer
	const rows = 10000
	for i := range rows {
		fmt.Fprintf(&in, `{"id":"i-%08d","account":"acct-%d","product":"ecs","region":"cn-hangzhou","billing":"subscription","term_months":12,"public_ip":"203.0.113.1","status":"running","expires_at":"2027-06-01T00:00:00Z"}`+"\n", i, i%100)
	}
	path := filepath.Join(b.TempDir(), "in.jsonl")
	if err := os.WriteFile(path, in.Bytes(), 0o600); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(in.Len()))
	for b.Loop() {
		var stderr bytes.Buffer
		if code := run(context.Background(), []string{"import", path}, nil, io.Discard, &stderr, get); code != 0 {
			b.Fatalf("import: exit %d: %s", code, stderr.String())
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/rows, "ns/row")
}

// lenientLine reads a line as encoding/json alone does.
func lenientLine(line []byte) (record, error) {
	var l lenient
	err := json.Unmarshal(line, &l)
	return record(l), err
}
