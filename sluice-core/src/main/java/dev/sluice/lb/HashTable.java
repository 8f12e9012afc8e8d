package dev.sluice.lb;

import dev.sluice.api.upstream.Host;
import org.jspecify.annotations.Nullable;

/** An immutable consistent-hash structure (ring or Maglev table), built once per snapshot. */
interface HashTable {
  /** The host for {@code hash}; {@code attempt > 0} asks for an alternative (retry predicates). */
  @Nullable Host choose(long hash, int attempt);
}
