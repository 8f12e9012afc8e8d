/** Istio's TCP {@code istio.metadata_exchange} network filter, accepted as a pass-through. */
@NullMarked
package dev.sluice.extensions.filters.network.metadata_exchange;

import org.jspecify.annotations.NullMarked;
