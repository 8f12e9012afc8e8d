/** Clusters, hosts and membership (STATIC, STRICT_DNS, LOGICAL_DNS, EDS, ORIGINAL_DST), circuit breakers, the cluster manager. */
@NullMarked
package dev.sluice.upstream;

import org.jspecify.annotations.NullMarked;
