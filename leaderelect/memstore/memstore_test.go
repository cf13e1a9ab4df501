package memstore_test

import (
	"testing"

	"github.com/tenure-pg/tenure/leaderelect"
	"github.com/tenure-pg/tenure/leaderelect/memstore"
	"github.com/tenure-pg/tenure/leaderelect/storetest"
)

type cluster struct{ api *memstore.API }

func (c cluster) Member(_ *testing.T, name string) storetest.Member {
	return c.api.Client("alpha", name)
}

func (c cluster) Forbidden(_ *testing.T, name string) leaderelect.Backend {
	cl := c.api.Client("alpha", name)
	cl.Forbid(true)
	return cl
}

func TestContract(t *testing.T) {
	storetest.Run(t, storetest.Harness{
		NewCluster: func(*testing.T) storetest.Cluster { return cluster{memstore.NewAPI()} },
		NewOutageCluster: func(*testing.T) (storetest.Cluster, func(bool)) {
			api := memstore.NewAPI()
			return cluster{api}, api.SetDown
		},
	})
}
