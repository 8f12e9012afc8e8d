package dev.sluice.rbac;

/** A compiled RBAC permission or principal. Immutable; evaluated on the worker loop. */
@FunctionalInterface
public interface RbacMatcher {
  RbacMatcher ANY = in -> true;

  boolean matches(RbacInput in);
}
