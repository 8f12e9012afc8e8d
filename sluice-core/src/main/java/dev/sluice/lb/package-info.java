/** Load balancers (Envoy's priority, locality and host selection) and the hashes they use. */
@NullMarked
package dev.sluice.lb;

import org.jspecify.annotations.NullMarked;
