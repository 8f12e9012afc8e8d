/** The upstream view extensions see: cluster manager, clusters, hosts, load balancers. */
@NullMarked
package dev.sluice.api.upstream;

import org.jspecify.annotations.NullMarked;
