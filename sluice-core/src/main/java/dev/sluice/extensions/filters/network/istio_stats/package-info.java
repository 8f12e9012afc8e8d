/** Istio's {@code istio.stats} network filter ({@code stats.PluginConfig}), accepted as a pass-through. */
@NullMarked
package dev.sluice.extensions.filters.network.istio_stats;

import org.jspecify.annotations.NullMarked;
