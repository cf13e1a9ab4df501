package podagent

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestUsableParameters(t *testing.T) {
	for _, tc := range []struct {
		name             string
		params, lastGood map[string]string
		want             map[string]string
		wantErr          string
	}{
		{"all good", map[string]string{"work_mem": "4MB"}, nil, map[string]string{"work_mem": "4MB"}, ""},
		{"bad one left out", map[string]string{"work_mem": "4MB", "port": "1"}, nil, map[string]string{"work_mem": "4MB"}, `"port"`},
		{"bad value keeps the last good one", map[string]string{"shared_preload_libraries": "pg_stat_statements,/tmp/evil.so"},
			map[string]string{"shared_preload_libraries": "pg_stat_statements"}, map[string]string{"shared_preload_libraries": "pg_stat_statements"}, "/tmp/evil.so"},
		{"newline", map[string]string{"work_mem": "1MB\nport = 1"}, map[string]string{"work_mem": "2MB"}, map[string]string{"work_mem": "2MB"}, "line break"},
		{"names differing in case fall back whole", map[string]string{"work_mem": "1MB", "WORK_MEM": "2MB"},
			map[string]string{"work_mem": "3MB"}, map[string]string{"work_mem": "3MB"}, "given twice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := usableParameters(tc.params, tc.lastGood)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("parameters (-want +got):\n%s", diff)
			}
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Errorf("error %v, want one mentioning %q", err, tc.wantErr)
			}
		})
	}
}
