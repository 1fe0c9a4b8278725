/* written by the reference-race work */
