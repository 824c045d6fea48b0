package detect

// TrackedEndpoints returns the number of external endpoints d tracks for
// beaconing, over all hosts.
func TrackedEndpoints(d *Detector) int {
	n := 0
	for _, h := range d.hosts {
		n += len(h.beacons)
	}
	return n
}
