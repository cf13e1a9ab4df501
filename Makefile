# Tenure. `make demo` and `make test` work from a clean clone on a machine
# with Go 1.26 and PostgreSQL 15 (Debian's postgresql-15); .ci/run installs
# the rest. Real test binaries (etcd, kube-apiserver) are built once from
# the Go module proxy into $(TENURE_CACHE) and reused.

SHELL        := /bin/bash
GO           ?= go
TENURE_CACHE ?= $(HOME)/.cache/tenure
export TENURE_CACHE

PKGS := ./...

.PHONY: images chaos test-containers
.PHONY: all build bin operator generate test unit vet testbins demo demo-dcs bench-dcs bench-failover bench-gate bench-archive bench-backup clean

all: build

build:
	$(GO) build $(PKGS)
	GOWORK=off $(GO) build $(PKGS)

## bin: the binaries, kubectl-tenure being the CLI under the name kubectl
## looks for plugins by.
bin:
	$(GO) build -o bin/ ./cmd/tenure-agent ./cmd/tenure ./cmd/tenure-operator
	cp bin/tenure bin/kubectl-tenure

## operator: bin/tenure-operator alone.
operator:
	$(GO) build -o bin/ ./cmd/tenure-operator

## generate: the PostgresCluster CRD (deploy/crd) and deepcopy code from
## operator/api/v1, with controller-gen pinned in operator/tools/go.mod
## (built once into $(TENURE_CACHE)/bin). TestGeneratedUpToDate fails
## when they are stale.
generate:
	bash operator/tools/controller-gen.sh object paths=./operator/api/v1/...
	bash operator/tools/controller-gen.sh crd paths=./operator/api/v1/... output:crd:dir=./deploy/crd

## testbins: build etcd and kube-apiserver at the pinned versions (cached).
testbins:
	bash internal/testenv/tools/install.sh

## vet: formatting and static checks.
vet:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)
	cd chaos && $(GO) vet ./...

## unit: fast tests with no real parts (fakes, in-memory stores, the
## decision core and its simulation).
unit:
	$(GO) test -count=1 -race -short ./leaderelect ./leaderelect/memstore ./internal/apicount ./internal/lsn ./podagent/ha ./podagent/pgconf ./podagent/api ./operator/build ./operator/controller

## test: everything, against real etcd + kube-apiserver and PostgreSQL 15.
test: testbins vet build
	$(GO) test -count=1 -race -timeout 20m $(PKGS)
	$(MAKE) test-containers

## test-containers: the testcontainers failover tests (chaos/): three
## tenure/postgres containers, a ledger workload, SIGKILL and docker pause
## of the primary. Under CI=true they build the image first (cold, with
## debootstrap: about 2 minutes); otherwise they skip without it.
test-containers: testbins
	cd chaos && $(GO) test -count=1 -timeout 20m ./...

## images: the container images, built here with no registry (images/build.sh:
## debootstrapped Debian base, then docker build). Idempotent: seconds when
## nothing changed. Tags name the git revision, never latest.
IMAGES ?= 15 operator
images:
	@bash images/build.sh $(IMAGES) >/dev/null
	@for v in $(IMAGES); do t=$$(bash images/build.sh --tag $$v); \
	  s=$$(docker image inspect -f '{{.Size}}' $$t 2>/dev/null) && \
	  awk -v t=$$t -v s=$$s 'BEGIN {printf "%s %.0f MB\n", t, s/1e6}' || true; done

## chaos: the fault campaign against containers: rounds of container kill
## and pause of the primary in a seeded random order under the ledger
## workload; prints RESULT chaos lines. TENURE_CHAOS_ROUNDS (default 50),
## TENURE_CHAOS_SEED.
chaos: testbins images
	set -o pipefail; cd chaos && $(GO) test -count=1 -run '^$$' -bench BenchmarkChaos -benchtime 1x -timeout 60m . | grep -E '^(RESULT|ok|FAIL|---|    )'

## demo: a real kube-apiserver on loopback and three tenure-agents with
## PostgreSQL 15 on 127.0.0.x, narrated live: bootstrap, replication, kill -9
## of the primary, pg_rewind rejoin, CLI switchover, graceful hand-over.
demo: testbins
	$(GO) test -tags demo -count=1 -run '^TestDemo$$' -v -timeout 10m ./podagent/e2e/ 2>&1 | grep -v -E '^(=== RUN|--- PASS|PASS$$)' ; test $${PIPESTATUS[0]} -eq 0

## demo-dcs: leader election alone (no PostgreSQL): three contenders.
demo-dcs: testbins
	$(GO) run ./internal/dcsdemo/cmd/dcsdemo

## bench-dcs: API load of an idle 3-member cluster over 60 s.
bench-dcs: testbins
	$(GO) test -count=1 -run '^$$' -bench BenchmarkIdleCluster -benchtime 1x -timeout 10m ./leaderelect/kubestore/

## bench-failover: kill -9, SIGTERM and switchover rounds of a 3-member
## cluster under continuous writes, then frozen-agent rounds (SIGSTOP of
## the primary's agent, sync off and on) with a ledger of direct writes;
## prints RESULT lines.
bench-failover: testbins
	$(GO) test -count=1 -run '^$$' -bench BenchmarkFailover -benchtime 1x -timeout 30m ./podagent/e2e/

## bench-gate: the commit-latency cost of the commit gate (podagent/gate):
## single-row commits from 1 and 8 clients with and without it; prints
## RESULT commit-gate lines.
bench-gate:
	set -o pipefail; $(GO) test -count=1 -run '^$$' -bench BenchmarkCommitGate -benchtime 1x -timeout 10m ./podagent/gate/ | grep -E '^(RESULT|ok|FAIL|---)'

## bench-archive: drain of a pgbench-made WAL backlog through archive_command
## and the agent's WAL service (walsvc) into the test S3 server, at
## concurrency 1 and the default, then archiving while pgbench writes WAL
## at full speed (wal-push-steady), then restore through restore_command's
## path without and with prefetch; prints RESULT lines. Tunables:
## TENURE_BENCH_SCALE, TENURE_BENCH_CONCURRENCY=1,2,4,8,
## TENURE_BENCH_RTT_MS, TENURE_BENCH_STANDALONE=1, TENURE_BENCH_STEADY_S.
bench-archive: testbins
	$(GO) test -count=1 -run '^$$' -bench BenchmarkWALPush -benchtime 1x -timeout 20m ./walarchive/walsvc/

## bench-backup: base backup of a pgbench database (scale
## $$TENURE_BENCH_SCALE, default 20, about 320 MB) into a real S3 server and
## its restore; prints RESULT lines.
bench-backup: testbins
	set -o pipefail; $(GO) test -count=1 -run '^$$' -bench BenchmarkBackupRestore -benchtime 1x -timeout 20m ./walarchive/restore/ | grep -E '^(RESULT|ok|FAIL|---)'

clean:
	rm -rf bin
