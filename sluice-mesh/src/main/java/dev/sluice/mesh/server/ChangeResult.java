package dev.sluice.mesh.server;

import dev.sluice.mesh.model.ValidationMessage;
import java.util.List;

/**
 * The outcome of an apply or delete: {@code accepted} false means nothing changed and nothing was
 * pushed ({@code messages} holds the errors); otherwise {@code version} is the version now in force
 * (unchanged when every resource was already as given) and {@code changes} says what happened to
 * each resource, as kubectl does ({@code VirtualService/default/reviews created}).
 */
public record ChangeResult(boolean accepted, long version, List<String> changes, List<ValidationMessage> messages) {
  public ChangeResult {
    changes = List.copyOf(changes);
    messages = List.copyOf(messages);
  }
}
