#include "tributary_shims.h"
