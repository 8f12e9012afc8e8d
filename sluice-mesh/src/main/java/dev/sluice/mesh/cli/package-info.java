/** The mesh command line: sluice mesh, apply, delete, get, status. */
@NullMarked
package dev.sluice.mesh.cli;

import org.jspecify.annotations.NullMarked;
