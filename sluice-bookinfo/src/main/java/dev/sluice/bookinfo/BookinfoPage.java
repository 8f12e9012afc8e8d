package dev.sluice.bookinfo;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * What a productpage HTML page shows, read back from the page's markers: for tests and scenario
 * checks that ask "which stars did this page show?" (no stars for reviews v1, black for v2, red for
 * v3), "who is signed in?", "which error texts are on it?".
 *
 * @param user the signed-in user, or null
 * @param detailsError true when the page shows "Error fetching product details"
 * @param reviewsError true when the page shows "Error fetching product reviews"
 */
public record BookinfoPage(@Nullable String user, boolean detailsError, boolean reviewsError, List<Review> reviews) {

  /**
   * One review as shown.
   *
   * @param stars filled stars (0 when none shown)
   * @param emptyStars outline stars
   * @param starColor the stars' colour ("black", "red"), or null without stars
   * @param ratingError the rating error text shown instead of stars, or null
   * @param servedBy the pod named after "Reviews served by:"
   */
  public record Review(
      String reviewer, int stars, int emptyStars, @Nullable String starColor, @Nullable String ratingError, String servedBy) {}

  private static final Pattern USER = Pattern.compile("<p class=\"user\">(.*?)</p>");
  private static final Pattern SECTION = Pattern.compile("<section class=\"review\">(.*?)</section>", Pattern.DOTALL);
  private static final Pattern FULL_STAR = Pattern.compile("<svg class=\"star star-full text-([^\"]*)-500\"");
  private static final Pattern EMPTY_STAR = Pattern.compile("<svg class=\"star star-empty ");
  private static final Pattern RATING_ERROR = Pattern.compile("<p class=\"rating-error text-red-500\">(.*?)</p>");
  private static final Pattern REVIEWER = Pattern.compile("<div class=\"reviewer font-semibold\">(.*?)</div>");
  private static final Pattern SERVED_BY = Pattern.compile("Reviews served by: (.*?)(?: on cluster .*?)?</div>");

  public static BookinfoPage parse(String html) {
    List<Review> reviews = new ArrayList<>();
    Matcher section = SECTION.matcher(html);
    while (section.find()) {
      reviews.add(review(section.group(1)));
    }
    return new BookinfoPage(
        first(USER, html),
        html.contains(ProductPageHtml.DETAILS_ERROR),
        html.contains(ProductPageHtml.REVIEWS_ERROR),
        List.copyOf(reviews));
  }

  /** The colours of the stars shown across all reviews; empty when the page shows no stars. */
  public Set<String> starColors() {
    var colors = new TreeSet<String>();
    reviews.forEach(review -> {
      if (review.starColor() != null) {
        colors.add(review.starColor());
      }
    });
    return colors;
  }

  private static Review review(String section) {
    Matcher full = FULL_STAR.matcher(section);
    int stars = 0;
    String color = null;
    while (full.find()) {
      stars++;
      color = full.group(1);
    }
    int empty = (int) EMPTY_STAR.matcher(section).results().count();
    String reviewer = first(REVIEWER, section);
    String servedBy = first(SERVED_BY, section);
    return new Review(
        reviewer == null ? "" : reviewer, stars, empty, color, first(RATING_ERROR, section), servedBy == null ? "" : servedBy);
  }

  private static @Nullable String first(Pattern pattern, String text) {
    Matcher matcher = pattern.matcher(text);
    return matcher.find() ? unescape(matcher.group(1)) : null;
  }

  private static String unescape(String html) {
    return html.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&#39;", "'").replace("&amp;", "&");
  }
}
