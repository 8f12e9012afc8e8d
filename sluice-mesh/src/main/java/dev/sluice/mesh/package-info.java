/** The local control plane: Istio resources to xDS, served over ADS. */
@NullMarked
package dev.sluice.mesh;

import org.jspecify.annotations.NullMarked;
