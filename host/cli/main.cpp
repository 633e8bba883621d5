#include <cstdio>
int main() { std::puts("crosscut"); return 0; }
