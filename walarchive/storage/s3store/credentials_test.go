package s3store_test

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tenure-pg/tenure/internal/testenv"
	"github.com/tenure-pg/tenure/walarchive/storage/s3store"
)

// clearAWSEnv unsets every variable the credential providers read, so the
// machine's own setup cannot make a test pass.
func clearAWSEnv(t *testing.T) {
	for _, v := range []string{"AWS_ACCESS_KEY_ID", "AWS_ACCESS_KEY", "AWS_SECRET_ACCESS_KEY", "AWS_SECRET_KEY",
		"AWS_SESSION_TOKEN", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_ROLE_SESSION_NAME", "AWS_REGION",
		"AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
		"AWS_CONTAINER_AUTHORIZATION_TOKEN", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"} {
		t.Setenv(v, "")
	}
}

func keylessConfig(srv *testenv.S3, source s3store.CredentialSource) s3store.Config {
	cfg := config(srv, srv.Bucket())
	cfg.Credentials, cfg.AccessKeyID, cfg.SecretAccessKey = source, "", ""
	return cfg
}

func TestCredentialsFromEnvironment(t *testing.T) {
	srv := testenv.StartS3(t)
	for _, source := range []s3store.CredentialSource{s3store.CredentialsEnv, s3store.CredentialsAuto} {
		t.Run(string(source), func(t *testing.T) {
			clearAWSEnv(t)
			t.Setenv("AWS_ACCESS_KEY_ID", srv.AccessKey())
			t.Setenv("AWS_SECRET_ACCESS_KEY", srv.SecretKey())
			roundTrip(t, newStore(t, keylessConfig(srv, source)))

			t.Setenv("AWS_SECRET_ACCESS_KEY", "wrong")
			if err := newStore(t, keylessConfig(srv, source)).Check(t.Context()); err == nil {
				t.Error("Check with a wrong secret in the environment succeeded")
			}
		})
	}
}

// TestCredentialsWebIdentity is IRSA's flow: the pod's projected token
// file and role ARN go to STS AssumeRoleWithWebIdentity, whose temporary
// keys sign the S3 requests. STS is faked (it hands out the server's root
// keys); the S3 side is the real server.
func TestCredentialsWebIdentity(t *testing.T) {
	srv := testenv.StartS3(t)
	clearAWSEnv(t)
	const roleARN = "arn:aws:iam::123456789012:role/tenure-archive"
	token := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(token, []byte("projected-sa-token"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_WEB_IDENTITY_TOKEN_FILE", token)
	t.Setenv("AWS_ROLE_ARN", roleARN)

	var calls atomic.Int32
	sts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if r.Form.Get("Action") != "AssumeRoleWithWebIdentity" || r.Form.Get("RoleArn") != roleARN ||
			r.Form.Get("WebIdentityToken") != "projected-sa-token" {
			t.Errorf("STS request %v, want AssumeRoleWithWebIdentity of %s with the token file's content", r.Form, roleARN)
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "text/xml")
		fmt.Fprint(w, stsResponse(srv.AccessKey(), srv.SecretKey(), time.Now().Add(time.Hour)))
	}))
	t.Cleanup(sts.Close)

	for _, source := range []s3store.CredentialSource{s3store.CredentialsIAM, s3store.CredentialsAuto} {
		cfg := keylessConfig(srv, source)
		cfg.STSEndpoint = sts.URL
		roundTrip(t, newStore(t, cfg))
	}
	if calls.Load() != 2 {
		t.Errorf("STS called %d times, want once per store (credentials are cached until expiry)", calls.Load())
	}
}

func stsResponse(access, secret string, expires time.Time) string {
	type creds struct {
		AccessKeyID     string    `xml:"AccessKeyId"`
		SecretAccessKey string    `xml:"SecretAccessKey"`
		Expiration      time.Time `xml:"Expiration"`
	}
	type result struct {
		Credentials creds `xml:"Credentials"`
	}
	type response struct {
		XMLName xml.Name `xml:"https://sts.amazonaws.com/doc/2011-06-15/ AssumeRoleWithWebIdentityResponse"`
		Result  result   `xml:"AssumeRoleWithWebIdentityResult"`
	}
	b, _ := xml.Marshal(response{Result: result{Credentials: creds{access, secret, expires.UTC()}}})
	return xml.Header + string(b)
}
