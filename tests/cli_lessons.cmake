# CLI tests of `attnlab lesson`: listing, rendering (terminal, Markdown, JSON), the template list,
# the course check, and errors that name file and line (exit 2, nothing on stdout).
attnlab_cli_test(lesson_list_fixture STDOUT "1 +alpha +Alpha +growth, traffic\n2 +beta +Beta: quoted +hierarchy"
                 ARGS lesson --list --lessons tests/data/lessons_good)
attnlab_cli_test(lesson_list_csv STDOUT "#,lesson,title,panels\n1,alpha,Alpha,growth traffic\n2,beta,"
                 ARGS lesson --list --format csv --lessons tests/data/lessons_good)
attnlab_cli_test(lesson_list_course STDOUT "\n +3 +flashattention +FlashAttention: same math, smarter memory +tiling, traffic"
                 ARGS lesson --list)
attnlab_cli_test(lesson_show_fixture
                 STDOUT "^Chapter 1 · Alpha\n(═)+\nDashboard panels: growth, traffic\n.*An H100 has 132 SMs and 50.0 MiB of L2.*Question 1: How many scores.*\nAnswers\n.*\\(1\\) 1,000,000 — One per"
                 ARGS lesson 1 --lessons tests/data/lessons_good --color never)
attnlab_cli_test(lesson_show_by_prefix STDOUT "^Chapter 2 · Beta: quoted\n.*512 KiB per token"
                 ARGS lesson be --lessons tests/data/lessons_good)
attnlab_cli_test(lesson_show_course_3 STDOUT "^Chapter 3 · FlashAttention.*reads each back once: 2.00.GiB of traffic.*Br = 128 and Bc = 64.*\nstandard +2.06 GiB +3.52 GiB +2.06 GiB\nFlashAttention-2 +72.2 MiB +1.03 GiB +64.2 MiB\nratio +29.3x +3.41x +32.9x.*paper: standard +40.3 GB +– +41.7 ms +66.6 G"
                 ARGS lesson 3 --width 88)
attnlab_cli_test(lesson_show_course_4_measured STDOUT "PyTorch FlashAttention-2 +[0-9.]+ ms +[0-9.]+ TFLOP/s.*attnlab mma \\(FlashAttention-2 on tensor cores\\) +[0-9.]+ ms"
                 ARGS lesson 4 --width 120)
attnlab_cli_test(lesson_show_course_7_paged STDOUT "contiguous, reserve 2048 \\(max\\) +[0-9.]+% +[0-9.]+% +[0-9.]+% +[0-9.]+% +[0-9.]+% +[67][0-9].[0-9]% .*paged, blocks of 16 +9[0-9].[0-9]% +[0-9.]+% +[0-9.]+% +[0-9.]+% +[0-9.]+% +[0-3].[0-9]% .*the paper found only 20.4.+38.2% of the KV memory"
                 ARGS lesson 7 --width 120)
attnlab_cli_test(lesson_show_course_by_name STDOUT "^Chapter 3 · FlashAttention" ARGS lesson flashattention)
attnlab_cli_test(lesson_md STDOUT "^# Chapter 1 · Alpha\n\n## Numbers\n\nAn H100 has 132 SMs and 50.0 MiB of L2.\nTen tokens make 100 scores; the ratio is 4.00x.\nA literal [{][{]gpu[}][}] stays"
                 ARGS lesson 1 --format md --lessons tests/data/lessons_good)
attnlab_cli_test(lesson_json STDOUT "\"line\": 10,\n +\"call\": \"gpu name=h100-sxm field=sms\".*\"quizzes\": ..*\"confirmed\": true"
                 ARGS lesson 1 --format json --lessons tests/data/lessons_good)
attnlab_cli_test(lesson_templates STDOUT "kv: The KV cache of a model.*e.g. +[{][{]kv model=llama-2-7b seq=4096 field=total[}][}] -> 2.00 GiB"
                 ARGS lesson --templates)
attnlab_cli_test(lesson_templates_csv STDOUT "template,keys,fields,example,value\n.*\nscores,n=4096 d=64 causal=false,.*,10000000000\n"
                 ARGS lesson --templates --format csv)
attnlab_cli_test(lesson_check_fixture STDOUT "All 2 lessons render: 6 live numbers, 2 quizzes, 1 numeric answers confirmed"
                 ARGS lesson --check --lessons tests/data/lessons_good)
attnlab_cli_test(lesson_check_course STDOUT "All 13 lessons render: [0-9]+ live numbers, [0-9]+ quizzes, [0-9]+ numeric answers confirmed by the simulator, no answer given away in the text above its quiz" ARGS lesson --check)

attnlab_cli_error(lesson_templates_measured_missing_run "01-bad.md:7: [{][{]measured kernel=attn-warp9 field=tflops[}][}]: h100-ladder.json has no run of kernel 'attn-warp9'"
                  lesson --check --lessons tests/data/lessons_bad_measured)
attnlab_cli_error(lesson_unknown_template "01-bad.md:7: [{][{]nosuch key=1[}][}]: unknown template 'nosuch' \\(known: alibi, backward, backward_ncu, fp8_accuracy, fp8_speed, gpu,"
                  lesson 1 --lessons tests/data/lessons_bad_template)
attnlab_cli_error(lesson_bad_front_matter "01-bad.md:4: front matter: expected 'key: value' \\(got 'this line has no colon'\\)"
                  lesson --list --lessons tests/data/lessons_bad_front)
attnlab_cli_error(lesson_quiz_not_confirmed "01-wrong.md:6: quiz answer 1,000,000 \\(1000000\\) is not confirmed: the lesson expects 999000"
                  lesson --check --lessons tests/data/lessons_wrong_quiz)
attnlab_cli_error(lesson_quiz_gives_answer_away "01-giveaway.md:10: quiz gives its answer away: '16,777,216' is already in the text at line 8"
                  lesson --check --lessons tests/data/lessons_giveaway)
attnlab_cli_error(lesson_duplicate_chapter "chapter 1 is also used by" lesson --list --lessons tests/data/lessons_dup)
attnlab_cli_error(lesson_no_such_chapter "lesson: no chapter 9 \\(chapters 1 to 2" lesson 9 --lessons tests/data/lessons_good)
attnlab_cli_error(lesson_no_such_name "lesson: no lesson named 'gamma' \\(known: alpha, beta\\)" lesson gamma --lessons tests/data/lessons_good)
attnlab_cli_error(lesson_no_such_folder "--lessons: no such folder 'tests/data/no_such_lessons'" lesson --list --lessons tests/data/no_such_lessons)
attnlab_cli_error(lesson_bad_format "--format must be table, md, json or csv \\(got 'xml'\\)" lesson 1 --format xml)
attnlab_cli_error(lesson_two_modes "give one of: a lesson" lesson 3 --list)
attnlab_cli_error(lesson_bad_width "--width must be between 40 and 400 \\(got 5\\)" lesson 1 --width 5)
