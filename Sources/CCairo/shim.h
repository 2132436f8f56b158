// Cairo 2-D graphics (Debian: libcairo2-dev): image (PNG), PDF and SVG surfaces, antialiased text.
#include <cairo/cairo.h>
#include <cairo/cairo-pdf.h>
#include <cairo/cairo-svg.h>
