/** Test doubles for the runtime: a small translator and YAML reader. */
@NullMarked
package dev.sluice.mesh.testing;

import org.jspecify.annotations.NullMarked;
