// Records llama.cpp's greedy continuation of a prompt of token ids, with the top-10
// probabilities (softmax of the full logits, double precision) of the first steps and the
// top-2 log-probability gap of every step. make_fixtures.py builds and runs it against the
// peer build's libllama; it is not part of Swiftlet.
//
// usage: record_llama_cpp MODEL.gguf ID,ID,... STEPS > out.json
#include "llama.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void quiet(enum ggml_log_level level, const char *text, void *user) {
    (void)user;
    if (level >= GGML_LOG_LEVEL_ERROR) fputs(text, stderr);
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s MODEL.gguf ID,ID,... STEPS\n", argv[0]);
        return 2;
    }
    int32_t prompt[512];
    int n_prompt = 0;
    for (char *p = strtok(argv[2], ","); p && n_prompt < 512; p = strtok(NULL, ",")) prompt[n_prompt++] = atoi(p);
    const int steps = atoi(argv[3]);

    llama_log_set(quiet, NULL);
    llama_backend_init();
    struct llama_model_params mp = llama_model_default_params();
    mp.n_gpu_layers = 0;
    struct llama_model *model = llama_model_load_from_file(argv[1], mp);
    if (!model) { fprintf(stderr, "cannot load %s\n", argv[1]); return 1; }
    struct llama_context_params cp = llama_context_default_params();
    cp.n_ctx = 256;
    cp.n_batch = 256;
    cp.n_ubatch = 256;
    cp.n_threads = 2;
    cp.n_threads_batch = 2;
    cp.flash_attn_type = LLAMA_FLASH_ATTN_TYPE_DISABLED;
    cp.swa_full = true;
    cp.type_k = GGML_TYPE_F32;  // (llama.cpp defaults to an F16 cache; Swiftlet to F32)
    cp.type_v = GGML_TYPE_F32;
    struct llama_context *ctx = llama_init_from_model(model, cp);
    if (!ctx) { fprintf(stderr, "cannot create a context\n"); return 1; }
    const int n_vocab = llama_vocab_n_tokens(llama_model_get_vocab(model));
    double *p = malloc(sizeof(double) * n_vocab);

    printf("{\"prompt\": [");
    for (int i = 0; i < n_prompt; i++) printf("%s%d", i ? ", " : "", prompt[i]);
    printf("],\n \"steps\": [\n");
    struct llama_batch batch = llama_batch_get_one(prompt, n_prompt);
    int32_t token = 0;
    for (int step = 0; step < steps; step++) {
        if (llama_decode(ctx, batch) != 0) { fprintf(stderr, "decode failed at step %d\n", step); return 1; }
        const float *logits = llama_get_logits_ith(ctx, -1);
        double max = -INFINITY, sum = 0;
        for (int i = 0; i < n_vocab; i++) if (logits[i] > max) max = logits[i];
        for (int i = 0; i < n_vocab; i++) { p[i] = exp((double)logits[i] - max); sum += p[i]; }
        for (int i = 0; i < n_vocab; i++) p[i] /= sum;
        int top[10];
        for (int k = 0; k < 10; k++) {
            int best = -1;
            for (int i = 0; i < n_vocab; i++) {
                int taken = 0;
                for (int j = 0; j < k; j++) taken |= top[j] == i;
                if (!taken && (best < 0 || p[i] > p[best])) best = i;
            }
            top[k] = best;
        }
        token = top[0];
        printf("  {\"token\": %d, \"gap\": %.9g, \"top\": [", token, log(p[top[0]]) - log(p[top[1]]));
        for (int k = 0; k < 10; k++) printf("%s[%d, %.9g]", k ? ", " : "", top[k], p[top[k]]);
        printf("]}%s\n", step + 1 < steps ? "," : "");
        batch = llama_batch_get_one(&token, 1);
    }
    printf(" ]}\n");
    free(p);
    llama_free(ctx);
    llama_model_free(model);
    return 0;
}
