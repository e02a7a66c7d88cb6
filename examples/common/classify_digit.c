// main.c - classify one 8x8 digit (64 floats in a file) with the exported model.
#include <stdio.h>
#include "model.h"
int main(int argc, char** argv) {
  float image[64], scores[10];
  FILE* f = argc > 1 ? fopen(argv[1], "rb") : NULL;
  if (!f || fread(image, sizeof image, 1, f) != 1) { fprintf(stderr, "usage: %s digit.bin\n", argv[0]); return 2; }
  fclose(f);
  if (model_run(image, scores) != 0) return 1;
  int best = 0;
  for (int k = 1; k < 10; ++k) if (scores[k] > scores[best]) best = k;
  printf("predicted: %d\n", best);
  return 0;
}
