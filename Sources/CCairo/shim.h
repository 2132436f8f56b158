// Cairo 2-D graphics (Debian: libcairo2-dev): image (PNG), PDF and SVG surfaces, antialiased text;
// fontconfig (libfontconfig-dev), which Cairo's text goes through, to check that the font is found.
#include <cairo/cairo.h>
#include <cairo/cairo-pdf.h>
#include <cairo/cairo-svg.h>
#include <fontconfig/fontconfig.h>
