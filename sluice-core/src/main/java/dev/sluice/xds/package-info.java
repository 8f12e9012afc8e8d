/** The xDS client: ADS streams (state of the world and delta), ACK/NACK, and the appliers that feed clusters, endpoints, listeners and routes. */
@NullMarked
package dev.sluice.xds;

import org.jspecify.annotations.NullMarked;
