package testenv

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	authnv1 "k8s.io/api/authentication/v1"
	authzv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
)

// cleanupTimeout bounds API calls made from t.Cleanup, where t's context is
// already cancelled.
const cleanupTimeout = 10 * time.Second

var notDNSLabel = regexp.MustCompile(`[^a-z0-9]+`)

// Namespace creates a namespace named after t with a random suffix, so
// tests sharing one apiserver run in parallel without seeing each other's
// objects, and deletes it when t ends. Without a namespace controller the
// deleted namespace stays Terminating, which is harmless (see package doc).
func (k *Kube) Namespace(t testing.TB) string {
	t.Helper()
	prefix := strings.Trim(notDNSLabel.ReplaceAllString(strings.ToLower(t.Name()), "-"), "-")
	prefix = strings.TrimRight(prefix[:min(len(prefix), 50)], "-")
	if prefix == "" {
		prefix = "test"
	}
	ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
	defer cancel()
	ns, err := k.admin.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{
		ObjectMeta: metav1.ObjectMeta{GenerateName: prefix + "-"},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create namespace for %s: %v", t.Name(), err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
		defer cancel()
		err := k.admin.CoreV1().Namespaces().Delete(ctx, ns.Name, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			// The apiserver may be down on purpose; the etcd dir goes anyway.
			t.Logf("delete namespace %s: %v", ns.Name, err)
		}
	})
	return ns.Name
}

// tokenLifetime is long enough for any test; TokenRequest's minimum is 10 min.
const tokenLifetime = time.Hour

// ServiceAccountConfig creates ServiceAccount name in namespace, a Role
// with exactly rules and a RoleBinding of that Role to the account, and
// returns a config that authenticates with a token from the TokenRequest
// API. With no rules it creates neither Role nor RoleBinding: the identity
// authenticates and is allowed nothing (403 tests). It returns once the
// apiserver authenticates the token and authorizes the first rule, because
// the RBAC authorizer learns of new bindings through an informer a few
// milliseconds later.
func (k *Kube) ServiceAccountConfig(ctx context.Context, namespace, name string, rules []rbacv1.PolicyRule) (*rest.Config, error) {
	sa, err := k.admin.CoreV1().ServiceAccounts(namespace).Create(ctx, &corev1.ServiceAccount{
		ObjectMeta: metav1.ObjectMeta{Name: name},
	}, metav1.CreateOptions{})
	if err != nil {
		return nil, fmt.Errorf("create service account %s/%s: %w", namespace, name, err)
	}
	if len(rules) > 0 {
		if err := k.grant(ctx, sa, rules); err != nil {
			return nil, err
		}
	}
	tr, err := k.admin.CoreV1().ServiceAccounts(namespace).CreateToken(ctx, name, &authnv1.TokenRequest{
		Spec: authnv1.TokenRequestSpec{ExpirationSeconds: ptr.To(int64(tokenLifetime / time.Second))},
	}, metav1.CreateOptions{})
	if err != nil {
		return nil, fmt.Errorf("request token for %s/%s: %w", namespace, name, err)
	}
	cfg := k.tokenConfig(tr.Status.Token)
	if err := waitEffective(ctx, cfg, namespace, rules); err != nil {
		return nil, fmt.Errorf("service account %s/%s: %w", namespace, name, err)
	}
	return cfg, nil
}

func (k *Kube) grant(ctx context.Context, sa *corev1.ServiceAccount, rules []rbacv1.PolicyRule) error {
	role := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: sa.Name}, Rules: rules}
	if _, err := k.admin.RbacV1().Roles(sa.Namespace).Create(ctx, role, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("create role %s/%s: %w", sa.Namespace, sa.Name, err)
	}
	binding := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: sa.Name},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: sa.Name},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: sa.Namespace, Name: sa.Name}},
	}
	if _, err := k.admin.RbacV1().RoleBindings(sa.Namespace).Create(ctx, binding, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("create role binding %s/%s: %w", sa.Namespace, sa.Name, err)
	}
	return nil
}

// waitEffective polls a SelfSubjectAccessReview made with cfg until the
// token authenticates and, with rules, the first rule's first verb on its
// first resource is allowed.
func waitEffective(ctx context.Context, cfg *rest.Config, namespace string, rules []rbacv1.PolicyRule) error {
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	review := &authzv1.SelfSubjectAccessReview{}
	if len(rules) > 0 {
		review.Spec.ResourceAttributes = firstAttributes(namespace, rules[0])
	} else {
		review.Spec.NonResourceAttributes = &authzv1.NonResourceAttributes{Path: "/api", Verb: "get"}
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		got, err := client.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, review, metav1.CreateOptions{})
		if err == nil && (got.Status.Allowed || len(rules) == 0) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("permissions not effective (last error %v): %w", err, ctx.Err())
		case <-time.After(pollInterval):
		}
	}
}

func firstAttributes(namespace string, r rbacv1.PolicyRule) *authzv1.ResourceAttributes {
	first := func(s []string) string {
		if len(s) == 0 {
			return ""
		}
		return s[0]
	}
	resource, subresource, _ := strings.Cut(first(r.Resources), "/") // "pods/log"
	return &authzv1.ResourceAttributes{
		Namespace:   namespace,
		Verb:        first(r.Verbs),
		Group:       first(r.APIGroups),
		Resource:    resource,
		Subresource: subresource,
		Name:        first(r.ResourceNames),
	}
}
