// The give-away check: a "think about it" question whose answer is already printed in the chapter
// text above it tests reading, not thinking. A numeric answer ("2.00 GiB", "131,072") or the text
// of a correct choice that appears, as a whole token, in the prose before the quiz is reported.
// Earlier quizzes do not count as prose: a later question may build on an earlier answer.
#pragma once
#include <string>
#include <vector>

#include "lessons/markdown.hpp"

namespace attnlab {

struct QuizGiveaway {
  int quiz_line = 0;    // line of the quiz block
  std::string answer;   // the answer text found
  int found_line = 0;   // line of the first block above that contains it
};

// Every quiz of `doc` whose answer appears in a non-quiz block before it, in order.
// Answers shorter than three characters ("8", "1.") are too common to be a give-away and skipped.
std::vector<QuizGiveaway> quiz_giveaways(const md::Document& doc);

// True when `needle` occurs in `hay` with no letter, digit, '.' or ',' glued to either side
// ("2.00 GiB" is in "takes 2.00 GiB." but "16" is not in "1,160" nor in "16.5").
bool contains_token(const std::string& hay, const std::string& needle);

}  // namespace attnlab
