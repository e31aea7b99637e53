// Package etcde2e tests the pinsh binary built with the etcd backend
// (go build -tags etcd) end to end, against a local cluster of three
// embedded etcd members that the tests start themselves
// (internal/etcdcluster/etcdtest): the scripts of testdata/script, pinsh
// test --cluster, pinsh migrate both ways, and a member killed with SIGKILL
// midway through a bulk lock (TestNodeLoss, on a cluster of member
// processes of its own: this test binary run again, see
// etcdcluster.StartProcs). It holds tests only; it lives apart from cmd/pinsh so that
// the pinsh test binary, which every script there runs as pinsh, does not
// carry the etcd server.
package etcde2e
