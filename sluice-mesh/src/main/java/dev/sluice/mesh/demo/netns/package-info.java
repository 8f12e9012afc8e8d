/** sluice demo bookinfo --netns: Bookinfo in transparent mode, every workload in its own network namespace with Istio's iptables rules. */
@NullMarked
package dev.sluice.mesh.demo.netns;

import org.jspecify.annotations.NullMarked;
