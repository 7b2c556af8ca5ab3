# `make install` / `cmake --install BUILD [--prefix P]` (README "Installing").
#
#   PREFIX/bin/sipwall, PREFIX/bin/sipwalld                      0755
#   PREFIX/share/doc/sipwall/*.md (README and docs/)             0644
#   PREFIX/share/doc/sipwall/examples/ (etc/ examples, Grafana)  0644
#   PREFIX/lib/systemd/system/sipwalld.service                   0644
#   /etc/logrotate.d/sipwall                                     0644
#   /etc/sipwall/                                                0750
#   /etc/sipwall/sipwalld.conf (the example; never overwritten)  0640
# The unit and the logrotate file name PREFIX/bin/sipwalld: they are
# written at install time, so a --prefix given to `cmake --install` holds.
# /etc is where systemd units read their config and logrotate its files,
# whatever the prefix (SW_INSTALL_SYSCONFDIR to change it); DESTDIR
# applies to every path.  Nothing installed is group- or world-writable,
# no secret is installed (sipwalld creates its own at the first start) and
# no user is created (scripts/make-deb's package does that).
set(SW_INSTALL_SYSCONFDIR "/etc" CACHE PATH "Where sipwall/ and logrotate.d/ are installed")

install(TARGETS sipwall sipwalld RUNTIME DESTINATION bin
        PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE
                    WORLD_READ WORLD_EXECUTE)

file(GLOB SW_DOCS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/docs/*.md)
# docs/README.md is how to write the docs (for contributors), and its name
# would replace the project's README.
list(FILTER SW_DOCS EXCLUDE REGEX "/docs/README\\.md$")
install(FILES ${CMAKE_SOURCE_DIR}/README.md ${SW_DOCS} DESTINATION share/doc/sipwall
        PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
install(FILES ${CMAKE_SOURCE_DIR}/etc/sipwalld.conf.example
              ${CMAKE_SOURCE_DIR}/etc/partners.example.policy
              ${CMAKE_SOURCE_DIR}/etc/default.policy
              ${CMAKE_SOURCE_DIR}/etc/grafana/sipwall.json
        DESTINATION share/doc/sipwall/examples
        PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)

# The unit, the logrotate file and the config, at install time.
install(CODE "
  set(_prefix \"\${CMAKE_INSTALL_PREFIX}\")
  set(_dest \"\$ENV{DESTDIR}\")
  set(_etc \"${SW_INSTALL_SYSCONFDIR}\")
  foreach(_pair \"etc/systemd/sipwalld.service|\${_prefix}/lib/systemd/system/sipwalld.service\"
                \"etc/logrotate.d/sipwall|\${_etc}/logrotate.d/sipwall\")
    string(REPLACE \"|\" \";\" _pl \"\${_pair}\")
    list(GET _pl 0 _src)
    list(GET _pl 1 _dst)
    file(READ \"${CMAKE_SOURCE_DIR}/\${_src}\" _text)
    string(REPLACE \"/usr/local/bin/sipwalld\" \"\${_prefix}/bin/sipwalld\" _text \"\${_text}\")
    string(REPLACE \"/usr/local/share/doc/sipwall\" \"\${_prefix}/share/doc/sipwall\" _text \"\${_text}\")
    string(REPLACE \"/etc/sipwall/\" \"\${_etc}/sipwall/\" _text \"\${_text}\")
    get_filename_component(_dir \"\${_dest}\${_dst}\" DIRECTORY)
    file(MAKE_DIRECTORY \"\${_dir}\")
    message(STATUS \"Installing: \${_dest}\${_dst}\")
    file(WRITE \"\${_dest}\${_dst}.tmp\" \"\${_text}\")
    file(CHMOD \"\${_dest}\${_dst}.tmp\" PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
    file(RENAME \"\${_dest}\${_dst}.tmp\" \"\${_dest}\${_dst}\")
  endforeach()
  # /etc/sipwall: 0750; the config 0640 (it names keys and partners),
  # written only when there is none (an upgrade keeps the operator's)
  file(MAKE_DIRECTORY \"\${_dest}\${_etc}/sipwall\")
  file(CHMOD \"\${_dest}\${_etc}/sipwall\" PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE
       GROUP_READ GROUP_EXECUTE)
  set(_conf \"\${_dest}\${_etc}/sipwall/sipwalld.conf\")
  if(EXISTS \"\${_conf}\")
    message(STATUS \"Keeping: \${_conf} (exists; the example is in share/doc/sipwall/examples)\")
  else()
    file(READ \"${CMAKE_SOURCE_DIR}/etc/sipwalld.conf.example\" _text)
    file(WRITE \"\${_conf}\" \"\${_text}\")
    file(CHMOD \"\${_conf}\" PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ)
    message(STATUS \"Installing: \${_conf}\")
  endif()
")
