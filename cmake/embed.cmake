# Turns a text file into a C string constant (the default policy).
file(READ ${IN} content HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," content "${content}")
file(WRITE ${OUT} "/* generated from rules/sm-as.rules: do not edit */\n#include \"smaudit/rules.h\"\nconst char sm_default_rules[] = {${content} 0x00};\n")
