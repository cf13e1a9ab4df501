package build

import (
	"encoding/base64"
	"fmt"
	"io"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	apiv1 "github.com/tenure-pg/tenure/operator/api/v1"
)

// Role names of the users the agents create.
const (
	SuperuserName   = "postgres"
	ReplicationName = "replicator"
)

// secretBytes of randomness per generated password or token: 256 bits.
const secretBytes = 32

// Secrets are the cluster's generated credentials: the agents' REST API
// token and the superuser and replication passwords, read from random.
// The controller creates each only when it does not exist yet and never
// updates one, so a reconcile never changes a password under a running
// cluster.
func Secrets(c *apiv1.PostgresCluster, random io.Reader) ([]*corev1.Secret, error) {
	token, err := randomString(random)
	if err != nil {
		return nil, err
	}
	out := []*corev1.Secret{secret(c, APITokenSecretName(c.Name), corev1.SecretTypeOpaque, map[string]string{TokenKey: token})}
	for _, u := range []struct{ secret, user string }{
		{SuperuserSecretName(c.Name), SuperuserName},
		{ReplicationSecretName(c.Name), ReplicationName},
	} {
		pw, err := randomString(random)
		if err != nil {
			return nil, err
		}
		out = append(out, secret(c, u.secret, corev1.SecretTypeBasicAuth, map[string]string{
			corev1.BasicAuthUsernameKey: u.user,
			corev1.BasicAuthPasswordKey: pw,
		}))
	}
	return out, nil
}

func secret(c *apiv1.PostgresCluster, name string, typ corev1.SecretType, data map[string]string) *corev1.Secret {
	return &corev1.Secret{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		ObjectMeta: meta(c, name),
		Type:       typ,
		StringData: data,
	}
}

// randomString is secretBytes from r, URL-safe base64: no quoting needed
// in a conninfo, a shell or a header.
func randomString(r io.Reader) (string, error) {
	b := make([]byte, secretBytes)
	if _, err := io.ReadFull(r, b); err != nil {
		return "", fmt.Errorf("generate secret: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
