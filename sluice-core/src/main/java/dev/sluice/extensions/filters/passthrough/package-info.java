/** Pass-through filters: accepted so listeners load, traffic passes unchanged, behaviour owned elsewhere. */
@NullMarked
package dev.sluice.extensions.filters.passthrough;

import org.jspecify.annotations.NullMarked;
