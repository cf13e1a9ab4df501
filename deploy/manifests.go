package deploy

import (
	_ "embed"
	"fmt"

	"bytes"
	"errors"
	"io"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/util/yaml"
)

//go:embed operator/rbac.yaml
var rbacYAML []byte

// OperatorRules are the rules of the operator's ClusterRole in
// operator/rbac.yaml, so tests run the controller with exactly them.
func OperatorRules() ([]rbacv1.PolicyRule, error) {
	dec := yaml.NewYAMLOrJSONDecoder(bytes.NewReader(rbacYAML), 4096)
	for {
		var role rbacv1.ClusterRole
		err := dec.Decode(&role)
		if errors.Is(err, io.EOF) {
			return nil, errors.New("operator/rbac.yaml has no ClusterRole")
		}
		if err != nil {
			return nil, fmt.Errorf("parse operator/rbac.yaml: %w", err)
		}
		if role.Kind == "ClusterRole" {
			return role.Rules, nil
		}
	}
}
