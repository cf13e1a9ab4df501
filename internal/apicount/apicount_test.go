package apicount

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestCountsByKind(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	defer srv.Close()
	var c Counter
	client := &http.Client{Transport: c.Wrap(http.DefaultTransport)}
	for _, r := range []struct{ method, query string }{
		{http.MethodGet, ""}, {http.MethodGet, "?limit=1"}, {http.MethodGet, "?watch=true"},
		{http.MethodPut, ""}, {http.MethodPost, ""}, {http.MethodDelete, ""},
	} {
		req, _ := http.NewRequest(r.method, srv.URL+"/x"+r.query, nil)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	if c.Reads() != 2 || c.Watches() != 1 || c.Writes() != 3 {
		t.Fatalf("reads=%d watches=%d writes=%d, want 2 1 3", c.Reads(), c.Watches(), c.Writes())
	}
}
