// setupFiles of every jest project: fs reads beside the repository throw (see outside-guard.js).
require('./outside-guard').guardFs();
