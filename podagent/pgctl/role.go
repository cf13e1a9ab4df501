package pgctl

import (
	"context"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// scramIterations is PostgreSQL 15's fixed SCRAM iteration count.
const scramIterations = 4096

// EnsureRole creates role name, or alters it if it exists, so that it can
// log in with password; replication adds the REPLICATION attribute (false
// leaves the attribute as it is: a superuser keeps replicating). An empty
// password leaves the password as it is.
//
// The password never appears in logs: for an ASCII password the statement
// carries a SCRAM-SHA-256 verifier computed here, so not even the server's
// statement log or pg_stat_statements sees it. A non-ASCII password would
// need SASLprep, which only the server does; it is sent in a transaction
// that first turns statement logging off.
func (in *Instance) EnsureRole(ctx context.Context, name, password string, replication bool) error {
	if name == "" {
		return fmt.Errorf("ensure role: %w: empty name", ErrInvalid)
	}
	err := in.withConn(ctx, func(c *pgx.Conn) error {
		tx, err := c.Begin(ctx)
		if err != nil {
			return err
		}
		defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // no-op after Commit
		var exists bool
		if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)", name).Scan(&exists); err != nil {
			return err
		}
		stmt, err := roleStatement(name, password, replication, exists)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "SET LOCAL log_statement = 'none'; SET LOCAL log_min_duration_statement = -1; "+
			"SET LOCAL log_min_error_statement = 'panic'"); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, stmt); err != nil {
			return err
		}
		return tx.Commit(ctx)
	})
	if err != nil {
		return fmt.Errorf("ensure role %q: %w", name, err)
	}
	return nil
}

// roleStatement builds CREATE or ALTER ROLE. Utility statements take no
// bind parameters, so the identifier and the password literal are quoted
// here.
func roleStatement(name, password string, replication, exists bool) (string, error) {
	verb := "CREATE"
	if exists {
		verb = "ALTER"
	}
	stmt := verb + " ROLE " + pgx.Identifier{name}.Sanitize() + " LOGIN"
	if replication {
		stmt += " REPLICATION"
	}
	if password == "" {
		return stmt, nil
	}
	secret := password
	if isASCII(password) {
		salt := make([]byte, 16)
		if _, err := rand.Read(salt); err != nil {
			return "", err
		}
		v, err := scramVerifier(password, salt, scramIterations)
		if err != nil {
			return "", err
		}
		secret = v
	}
	return stmt + " PASSWORD " + literal(secret), nil
}

// literal quotes s as an escape string literal, whatever
// standard_conforming_strings says.
func literal(s string) string {
	return "E'" + strings.NewReplacer(`\`, `\\`, `'`, `''`).Replace(s) + "'"
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// scramVerifier returns the verifier PostgreSQL stores for password
// (RFC 5802, RFC 7677): SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>.
// PostgreSQL's SASLprep leaves ASCII passwords unchanged, so for them this
// is exactly what the server would compute.
func scramVerifier(password string, salt []byte, iterations int) (string, error) {
	salted, err := pbkdf2.Key(sha256.New, password, salt, iterations, sha256.Size)
	if err != nil {
		return "", err
	}
	mac := func(key []byte, msg string) []byte {
		h := hmac.New(sha256.New, key)
		h.Write([]byte(msg))
		return h.Sum(nil)
	}
	stored := sha256.Sum256(mac(salted, "Client Key"))
	b64 := base64.StdEncoding.EncodeToString
	return fmt.Sprintf("SCRAM-SHA-256$%d:%s$%s:%s", iterations, b64(salt), b64(stored[:]), b64(mac(salted, "Server Key"))), nil
}
