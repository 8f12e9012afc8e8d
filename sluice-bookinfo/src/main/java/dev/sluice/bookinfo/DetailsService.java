package dev.sluice.bookinfo;

import com.google.gson.JsonObject;
import java.util.List;
import java.util.OptionalLong;

/**
 * details: {@code GET /details/<id>} gives the book's details, {@code GET /health} its health.
 *
 * <p>v2 is the original's external-book-service variant, which fetched the book from the Google
 * Books API (egress). There is no network beyond this machine here, so v2 answers from a built-in
 * copy of that answer's fields for ISBN 0486424618 (Dover's edition of the play: 80 pages,
 * publisher "Dover Publications", year as the string "2002", ISBN-13 "9780486424613"). It never
 * calls out; the page still shows the v1/v2 difference the details tasks look for.
 */
public final class DetailsService implements ServiceHandler {
  private final boolean externalBookService;

  /** @param externalBookService v2 behaviour: the (built-in) external book's details */
  public DetailsService(boolean externalBookService) {
    this.externalBookService = externalBookService;
  }

  @Override
  public ServiceResponse handle(ServiceRequest request) {
    List<String> segments = request.segments();
    if (!request.method().equals("GET") || segments.isEmpty()) {
      return ServiceResponse.text(404, "Not Found");
    }
    if (request.path().equals("/health")) {
      JsonObject health = new JsonObject();
      health.addProperty("status", "Details is healthy");
      return ServiceResponse.json(200, Json.write(health));
    }
    if (!segments.getFirst().equals("details")) {
      return ServiceResponse.text(404, "Not Found");
    }
    OptionalLong id = ProductIds.parse(segments.getLast());
    if (id.isEmpty()) {
      return ServiceResponse.json(400, Json.write(Json.error("please provide numeric product id")));
    }
    return ServiceResponse.json(200, Json.write(externalBookService ? externalBook(id.getAsLong()) : book(id.getAsLong())));
  }

  private static JsonObject book(long id) {
    JsonObject book = new JsonObject();
    book.addProperty("id", id);
    book.addProperty("author", "William Shakespeare");
    book.addProperty("year", 1595);
    book.addProperty("type", "paperback");
    book.addProperty("pages", 200);
    book.addProperty("publisher", "PublisherA");
    book.addProperty("language", "English");
    book.addProperty("ISBN-10", "1234567890");
    book.addProperty("ISBN-13", "123-1234567890");
    return book;
  }

  /** The fields v2 maps from the external answer, in the same shape as v1's. */
  private static JsonObject externalBook(long id) {
    JsonObject book = new JsonObject();
    book.addProperty("id", id);
    book.addProperty("author", "William Shakespeare");
    book.addProperty("year", "2002");
    book.addProperty("type", "paperback");
    book.addProperty("pages", 80);
    book.addProperty("publisher", "Dover Publications");
    book.addProperty("language", "English");
    book.addProperty("ISBN-10", "0486424618");
    book.addProperty("ISBN-13", "9780486424613");
    return book;
  }
}
