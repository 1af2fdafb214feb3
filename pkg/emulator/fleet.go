package emulator

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
)

// fleet is the cluster list FleetClusters builds: several regions, a name used in two regions,
// and clusters that are not running, as a real account with tens of clusters has.
var fleet = []struct {
	name, region, state string
	rrsa                bool
}{
	{"prod-web", "cn-hangzhou", "running", true},
	{"prod-api", "cn-hangzhou", "running", false},
	{"prod-web", "cn-beijing", "running", false},
	{"batch", "cn-beijing", "updating", false},
	{"staging", "cn-shanghai", "running", true},
	{"dev-new", "cn-shanghai", "initial", false},
	{"analytics", "ap-southeast-1", "failed", false},
}

// FleetClusters returns seven clusters of accountID spread over four regions: two running
// clusters named "prod-web" (cn-hangzhou and cn-beijing), "prod-api", "staging", and "batch"
// (updating), "dev-new" (initial) and "analytics" (failed), some with RRSA on. Their ids are
// derived from the account, name and region, so a restarted emulator with the same account
// serves the same ids. Append them to Seed.Clusters (`ack-emulator serve --fleet`).
func FleetClusters(accountID string) []ClusterSeed {
	out := make([]ClusterSeed, 0, len(fleet))
	for _, f := range fleet {
		sum := sha256.Sum256([]byte(accountID + "/" + f.region + "/" + f.name))
		out = append(out, ClusterSeed{
			ID:        "c" + hex.EncodeToString(sum[:16]),
			AccountID: accountID,
			Name:      f.name,
			RegionID:  f.region,
			State:     f.state,
			RRSA:      RRSAConfig{Enabled: f.rrsa},
			TaskPolls: 1,
		})
	}
	return out
}

// AddCluster adds a cluster at run time, as if it had been created since the emulator started.
// Defaults are filled as for seeded clusters.
func (s *Server) AddCluster(c Cluster) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.addCluster(&c); err != nil {
		return fmt.Errorf("add cluster: %w", err)
	}
	return nil
}

// DeleteCluster removes a cluster, as if it had been deleted: the CS API stops listing it and
// answers ErrorClusterNotFound for it.
func (s *Server) DeleteCluster(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.clusters[id]; !ok {
		return fmt.Errorf("cluster %s not found", id)
	}
	delete(s.clusters, id)
	delete(s.clientCAs, id)
	for i, cid := range s.clusterOrder {
		if cid == id {
			s.clusterOrder = append(s.clusterOrder[:i:i], s.clusterOrder[i+1:]...)
			break
		}
	}
	return nil
}
