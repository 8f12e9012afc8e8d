/** Envoy's subset load balancer: hosts grouped by endpoint metadata, picked by the route's metadata_match. */
@NullMarked
package dev.sluice.lb.subset;

import org.jspecify.annotations.NullMarked;
